def main(error):
    return error
