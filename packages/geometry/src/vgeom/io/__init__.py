"""Reading and writing point clouds and meshes."""
