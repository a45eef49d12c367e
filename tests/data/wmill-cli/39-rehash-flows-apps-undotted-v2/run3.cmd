wmill generate-metadata rehash f/apps
