def main(message: str, name: str):
    return message
