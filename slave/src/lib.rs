//! The rmesos slave (binary rmesos-slave). Empty until its issue lands: nothing here works yet.
