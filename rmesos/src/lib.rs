//! The API framework authors depend on (ids, resources, messages, scheduler and executor drivers). Empty until its issue lands: nothing here works yet.
