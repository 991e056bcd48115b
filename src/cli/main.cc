#include "cli/commands.h"

int main(int argc, char** argv) { return pqflow::cli::RunCli(argc, argv); }
