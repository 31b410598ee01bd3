"""The face model and its camera (paper Sec. III): the linear 3DMM, the weak-perspective camera, z-buffer
rendering, the landmark sets, per-vertex textures and the fit of the model to 68 landmarks."""
