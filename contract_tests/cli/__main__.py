"""`python -m contract_tests.cli`: the same as the console script."""

from contract_tests.cli.main import main

main()
