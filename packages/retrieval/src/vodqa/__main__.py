from vodqa.cli import main

main()
