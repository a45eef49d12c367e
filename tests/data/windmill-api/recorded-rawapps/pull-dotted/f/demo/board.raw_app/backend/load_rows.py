def main(n: int = 3):
    return list(range(n))
