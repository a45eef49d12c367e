def main(x: int, choice: str, db: dict):
    return x
