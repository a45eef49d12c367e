def main():
    return "step"
