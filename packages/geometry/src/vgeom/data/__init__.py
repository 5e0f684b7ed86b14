"""Shape datasets: surface sampling, procedural and CGAL meshes, the vgeom-shapes/1 format."""
