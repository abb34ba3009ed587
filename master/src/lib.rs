//! The rmesos master (binary rmesos-master). Empty until its issue lands: nothing here works yet.
