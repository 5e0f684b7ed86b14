from vmol.cli import main

main()
