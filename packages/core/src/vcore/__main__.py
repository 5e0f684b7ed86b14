from vcore.cli import main

main()
