"""`python -m mock_server.cli`: the same as the console script."""

from mock_server.cli.main import main

main()
