// Placeholder: the fault worker lands with the process core (issue 2).
int main() { return 0; }
