#ifndef RT_PROCESS_CONTROL_H
#define RT_PROCESS_CONTROL_H

/// Asks the kernel to send `signal` to this process when the thread that started it exits
/// (Linux PR_SET_PDEATHSIG; prctl is variadic, so Swift cannot call it directly).
/// Returns 0, or -1 with errno set (and always -1 where the call does not exist).
int rt_set_parent_death_signal(int signal);

#endif
