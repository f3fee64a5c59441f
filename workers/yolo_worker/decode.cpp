// Placeholder: decode lands with the YOLO worker (issue 4).
