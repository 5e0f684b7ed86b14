from vaudio.cli import main

main()
