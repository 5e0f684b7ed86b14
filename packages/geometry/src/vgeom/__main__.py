from vgeom.cli import main

main()
