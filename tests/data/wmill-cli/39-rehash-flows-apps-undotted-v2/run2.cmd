wmill generate-metadata rehash --skip-apps --skip-scripts
