"""Feature matching between two face images (paper Sec. IV-A) and its ground truth between rendered views."""
