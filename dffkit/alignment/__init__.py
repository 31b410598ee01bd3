"""Large-pose face alignment by cascaded regression (paper Sec. III-C): the cascade at inference, its
learning, and the regressor file format."""
