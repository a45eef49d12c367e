from datetime import datetime


def main(a: datetime, b=None):
    return a
