def main():
    return "hidden"
