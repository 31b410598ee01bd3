"""Face tracking in video (the paper's accompanying video): reading and writing video, temporal filters,
the tracker, and ground-truth sequences to measure it on."""
