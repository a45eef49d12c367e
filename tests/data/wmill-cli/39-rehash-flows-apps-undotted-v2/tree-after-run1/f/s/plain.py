def main():
    return "s"
