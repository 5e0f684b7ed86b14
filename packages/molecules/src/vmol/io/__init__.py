"""Reading and writing molecules (SDF, XYZ, vmol .npz); see `vmol.io.molecules`."""

from vmol.io.molecules import Molecule, make_molecule, read_molecules, write_molecules

__all__ = ["Molecule", "make_molecule", "read_molecules", "write_molecules"]
