"""What a contract run shows and writes: the console display and the report files."""
