def main():
    return "step"
# edit
