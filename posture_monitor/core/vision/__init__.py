"""Pose estimation: MediaPipe landmarks, the model files, smoothing."""
