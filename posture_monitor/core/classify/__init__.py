"""The posture label table, classifier features, the int8 classifier, imbalance scores."""
