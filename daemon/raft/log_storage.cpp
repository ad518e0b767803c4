#include "raft/log_storage.h"

// MemoryLogStorage is implemented by the Raft core work (issue 7); placeholder translation unit
// so the target exists while the core is written.
