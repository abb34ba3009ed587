//! The command executor (binary rmesos-executor). Empty until its issue lands: nothing here works yet.
