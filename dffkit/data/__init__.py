"""Training data (paper Sec. III-A): photo readers and splits, the fitted source faces, synthesis by
re-rendering, face profiling of whole photos, and the sharded dataset format with its reader and writer."""
