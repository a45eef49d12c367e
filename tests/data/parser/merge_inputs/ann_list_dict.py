def main(a: list[dict]):
    return a
