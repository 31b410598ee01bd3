"""The Deep Face Feature (paper Sec. III-B): random surface segmentations, the U-Net, the multi-head
angular-softmax loss, training, the weights format and inference."""
