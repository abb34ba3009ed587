//! Example frameworks and tools (rmesos-local, rmesos-execute, redispatch). Empty until their issue lands.
