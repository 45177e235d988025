//! Linux/parisc system call numbers and names, from the kernel UAPI header
//! `asm/unistd_32.h` (`/usr/hppa-linux-gnu/include/asm/unistd_32.h`).

/// `(number, name)` for every parisc system call, sorted by number.
pub const SYSCALLS: &[(u32, &str)] = &[
    (0, "restart_syscall"),
    (1, "exit"),
    (2, "fork"),
    (3, "read"),
    (4, "write"),
    (5, "open"),
    (6, "close"),
    (7, "waitpid"),
    (8, "creat"),
    (9, "link"),
    (10, "unlink"),
    (11, "execve"),
    (12, "chdir"),
    (13, "time"),
    (14, "mknod"),
    (15, "chmod"),
    (16, "lchown"),
    (17, "socket"),
    (18, "stat"),
    (19, "lseek"),
    (20, "getpid"),
    (21, "mount"),
    (22, "bind"),
    (23, "setuid"),
    (24, "getuid"),
    (25, "stime"),
    (26, "ptrace"),
    (27, "alarm"),
    (28, "fstat"),
    (29, "pause"),
    (30, "utime"),
    (31, "connect"),
    (32, "listen"),
    (33, "access"),
    (34, "nice"),
    (35, "accept"),
    (36, "sync"),
    (37, "kill"),
    (38, "rename"),
    (39, "mkdir"),
    (40, "rmdir"),
    (41, "dup"),
    (42, "pipe"),
    (43, "times"),
    (44, "getsockname"),
    (45, "brk"),
    (46, "setgid"),
    (47, "getgid"),
    (48, "signal"),
    (49, "geteuid"),
    (50, "getegid"),
    (51, "acct"),
    (52, "umount2"),
    (53, "getpeername"),
    (54, "ioctl"),
    (55, "fcntl"),
    (56, "socketpair"),
    (57, "setpgid"),
    (58, "send"),
    (59, "uname"),
    (60, "umask"),
    (61, "chroot"),
    (62, "ustat"),
    (63, "dup2"),
    (64, "getppid"),
    (65, "getpgrp"),
    (66, "setsid"),
    (67, "pivot_root"),
    (68, "sgetmask"),
    (69, "ssetmask"),
    (70, "setreuid"),
    (71, "setregid"),
    (72, "mincore"),
    (73, "sigpending"),
    (74, "sethostname"),
    (75, "setrlimit"),
    (76, "getrlimit"),
    (77, "getrusage"),
    (78, "gettimeofday"),
    (79, "settimeofday"),
    (80, "getgroups"),
    (81, "setgroups"),
    (82, "sendto"),
    (83, "symlink"),
    (84, "lstat"),
    (85, "readlink"),
    (86, "uselib"),
    (87, "swapon"),
    (88, "reboot"),
    (89, "mmap2"),
    (90, "mmap"),
    (91, "munmap"),
    (92, "truncate"),
    (93, "ftruncate"),
    (94, "fchmod"),
    (95, "fchown"),
    (96, "getpriority"),
    (97, "setpriority"),
    (98, "recv"),
    (99, "statfs"),
    (100, "fstatfs"),
    (101, "stat64"),
    (103, "syslog"),
    (104, "setitimer"),
    (105, "getitimer"),
    (106, "capget"),
    (107, "capset"),
    (108, "pread64"),
    (109, "pwrite64"),
    (110, "getcwd"),
    (111, "vhangup"),
    (112, "fstat64"),
    (113, "vfork"),
    (114, "wait4"),
    (115, "swapoff"),
    (116, "sysinfo"),
    (117, "shutdown"),
    (118, "fsync"),
    (119, "madvise"),
    (120, "clone"),
    (121, "setdomainname"),
    (122, "sendfile"),
    (123, "recvfrom"),
    (124, "adjtimex"),
    (125, "mprotect"),
    (126, "sigprocmask"),
    (128, "init_module"),
    (129, "delete_module"),
    (131, "quotactl"),
    (132, "getpgid"),
    (133, "fchdir"),
    (134, "bdflush"),
    (135, "sysfs"),
    (136, "personality"),
    (138, "setfsuid"),
    (139, "setfsgid"),
    (140, "_llseek"),
    (141, "getdents"),
    (142, "_newselect"),
    (143, "flock"),
    (144, "msync"),
    (145, "readv"),
    (146, "writev"),
    (147, "getsid"),
    (148, "fdatasync"),
    (149, "_sysctl"),
    (150, "mlock"),
    (151, "munlock"),
    (152, "mlockall"),
    (153, "munlockall"),
    (154, "sched_setparam"),
    (155, "sched_getparam"),
    (156, "sched_setscheduler"),
    (157, "sched_getscheduler"),
    (158, "sched_yield"),
    (159, "sched_get_priority_max"),
    (160, "sched_get_priority_min"),
    (161, "sched_rr_get_interval"),
    (162, "nanosleep"),
    (163, "mremap"),
    (164, "setresuid"),
    (165, "getresuid"),
    (166, "sigaltstack"),
    (168, "poll"),
    (170, "setresgid"),
    (171, "getresgid"),
    (172, "prctl"),
    (173, "rt_sigreturn"),
    (174, "rt_sigaction"),
    (175, "rt_sigprocmask"),
    (176, "rt_sigpending"),
    (177, "rt_sigtimedwait"),
    (178, "rt_sigqueueinfo"),
    (179, "rt_sigsuspend"),
    (180, "chown"),
    (181, "setsockopt"),
    (182, "getsockopt"),
    (183, "sendmsg"),
    (184, "recvmsg"),
    (185, "semop"),
    (186, "semget"),
    (187, "semctl"),
    (188, "msgsnd"),
    (189, "msgrcv"),
    (190, "msgget"),
    (191, "msgctl"),
    (192, "shmat"),
    (193, "shmdt"),
    (194, "shmget"),
    (195, "shmctl"),
    (198, "lstat64"),
    (199, "truncate64"),
    (200, "ftruncate64"),
    (201, "getdents64"),
    (202, "fcntl64"),
    (206, "gettid"),
    (207, "readahead"),
    (208, "tkill"),
    (209, "sendfile64"),
    (210, "futex"),
    (211, "sched_setaffinity"),
    (212, "sched_getaffinity"),
    (215, "io_setup"),
    (216, "io_destroy"),
    (217, "io_getevents"),
    (218, "io_submit"),
    (219, "io_cancel"),
    (222, "exit_group"),
    (223, "lookup_dcookie"),
    (224, "epoll_create"),
    (225, "epoll_ctl"),
    (226, "epoll_wait"),
    (227, "remap_file_pages"),
    (228, "semtimedop"),
    (229, "mq_open"),
    (230, "mq_unlink"),
    (231, "mq_timedsend"),
    (232, "mq_timedreceive"),
    (233, "mq_notify"),
    (234, "mq_getsetattr"),
    (235, "waitid"),
    (236, "fadvise64_64"),
    (237, "set_tid_address"),
    (238, "setxattr"),
    (239, "lsetxattr"),
    (240, "fsetxattr"),
    (241, "getxattr"),
    (242, "lgetxattr"),
    (243, "fgetxattr"),
    (244, "listxattr"),
    (245, "llistxattr"),
    (246, "flistxattr"),
    (247, "removexattr"),
    (248, "lremovexattr"),
    (249, "fremovexattr"),
    (250, "timer_create"),
    (251, "timer_settime"),
    (252, "timer_gettime"),
    (253, "timer_getoverrun"),
    (254, "timer_delete"),
    (255, "clock_settime"),
    (256, "clock_gettime"),
    (257, "clock_getres"),
    (258, "clock_nanosleep"),
    (259, "tgkill"),
    (260, "mbind"),
    (261, "get_mempolicy"),
    (262, "set_mempolicy"),
    (264, "add_key"),
    (265, "request_key"),
    (266, "keyctl"),
    (267, "ioprio_set"),
    (268, "ioprio_get"),
    (269, "inotify_init"),
    (270, "inotify_add_watch"),
    (271, "inotify_rm_watch"),
    (272, "migrate_pages"),
    (273, "pselect6"),
    (274, "ppoll"),
    (275, "openat"),
    (276, "mkdirat"),
    (277, "mknodat"),
    (278, "fchownat"),
    (279, "futimesat"),
    (280, "fstatat64"),
    (281, "unlinkat"),
    (282, "renameat"),
    (283, "linkat"),
    (284, "symlinkat"),
    (285, "readlinkat"),
    (286, "fchmodat"),
    (287, "faccessat"),
    (288, "unshare"),
    (289, "set_robust_list"),
    (290, "get_robust_list"),
    (291, "splice"),
    (292, "sync_file_range"),
    (293, "tee"),
    (294, "vmsplice"),
    (295, "move_pages"),
    (296, "getcpu"),
    (297, "epoll_pwait"),
    (298, "statfs64"),
    (299, "fstatfs64"),
    (300, "kexec_load"),
    (301, "utimensat"),
    (302, "signalfd"),
    (304, "eventfd"),
    (305, "fallocate"),
    (306, "timerfd_create"),
    (307, "timerfd_settime"),
    (308, "timerfd_gettime"),
    (309, "signalfd4"),
    (310, "eventfd2"),
    (311, "epoll_create1"),
    (312, "dup3"),
    (313, "pipe2"),
    (314, "inotify_init1"),
    (315, "preadv"),
    (316, "pwritev"),
    (317, "rt_tgsigqueueinfo"),
    (318, "perf_event_open"),
    (319, "recvmmsg"),
    (320, "accept4"),
    (321, "prlimit64"),
    (322, "fanotify_init"),
    (323, "fanotify_mark"),
    (324, "clock_adjtime"),
    (325, "name_to_handle_at"),
    (326, "open_by_handle_at"),
    (327, "syncfs"),
    (328, "setns"),
    (329, "sendmmsg"),
    (330, "process_vm_readv"),
    (331, "process_vm_writev"),
    (332, "kcmp"),
    (333, "finit_module"),
    (334, "sched_setattr"),
    (335, "sched_getattr"),
    (336, "utimes"),
    (337, "renameat2"),
    (338, "seccomp"),
    (339, "getrandom"),
    (340, "memfd_create"),
    (341, "bpf"),
    (342, "execveat"),
    (343, "membarrier"),
    (344, "userfaultfd"),
    (345, "mlock2"),
    (346, "copy_file_range"),
    (347, "preadv2"),
    (348, "pwritev2"),
    (349, "statx"),
    (350, "io_pgetevents"),
    (351, "pkey_mprotect"),
    (352, "pkey_alloc"),
    (353, "pkey_free"),
    (354, "rseq"),
    (355, "kexec_file_load"),
    (403, "clock_gettime64"),
    (404, "clock_settime64"),
    (405, "clock_adjtime64"),
    (406, "clock_getres_time64"),
    (407, "clock_nanosleep_time64"),
    (408, "timer_gettime64"),
    (409, "timer_settime64"),
    (410, "timerfd_gettime64"),
    (411, "timerfd_settime64"),
    (412, "utimensat_time64"),
    (413, "pselect6_time64"),
    (414, "ppoll_time64"),
    (416, "io_pgetevents_time64"),
    (417, "recvmmsg_time64"),
    (418, "mq_timedsend_time64"),
    (419, "mq_timedreceive_time64"),
    (420, "semtimedop_time64"),
    (421, "rt_sigtimedwait_time64"),
    (422, "futex_time64"),
    (423, "sched_rr_get_interval_time64"),
    (424, "pidfd_send_signal"),
    (425, "io_uring_setup"),
    (426, "io_uring_enter"),
    (427, "io_uring_register"),
    (428, "open_tree"),
    (429, "move_mount"),
    (430, "fsopen"),
    (431, "fsconfig"),
    (432, "fsmount"),
    (433, "fspick"),
    (434, "pidfd_open"),
    (435, "clone3"),
    (436, "close_range"),
    (437, "openat2"),
    (438, "pidfd_getfd"),
    (439, "faccessat2"),
    (440, "process_madvise"),
    (441, "epoll_pwait2"),
    (442, "mount_setattr"),
    (443, "quotactl_fd"),
    (444, "landlock_create_ruleset"),
    (445, "landlock_add_rule"),
    (446, "landlock_restrict_self"),
    (448, "process_mrelease"),
    (449, "futex_waitv"),
    (450, "set_mempolicy_home_node"),
];

/// The name of system call `nr`, if it exists on parisc.
pub fn name(nr: u32) -> Option<&'static str> {
    SYSCALLS.binary_search_by_key(&nr, |&(n, _)| n).ok().map(|i| SYSCALLS[i].1)
}

/// Named numbers for the calls the emulation implements.
#[allow(non_upper_case_globals)]
pub mod nr {
    pub const restart_syscall: u32 = 0;
    pub const exit: u32 = 1;
    pub const fork: u32 = 2;
    pub const read: u32 = 3;
    pub const write: u32 = 4;
    pub const open: u32 = 5;
    pub const close: u32 = 6;
    pub const waitpid: u32 = 7;
    pub const creat: u32 = 8;
    pub const link: u32 = 9;
    pub const unlink: u32 = 10;
    pub const execve: u32 = 11;
    pub const chdir: u32 = 12;
    pub const time: u32 = 13;
    pub const mknod: u32 = 14;
    pub const chmod: u32 = 15;
    pub const lchown: u32 = 16;
    pub const socket: u32 = 17;
    pub const stat: u32 = 18;
    pub const lseek: u32 = 19;
    pub const getpid: u32 = 20;
    pub const mount: u32 = 21;
    pub const bind: u32 = 22;
    pub const setuid: u32 = 23;
    pub const getuid: u32 = 24;
    pub const stime: u32 = 25;
    pub const ptrace: u32 = 26;
    pub const alarm: u32 = 27;
    pub const fstat: u32 = 28;
    pub const pause: u32 = 29;
    pub const utime: u32 = 30;
    pub const connect: u32 = 31;
    pub const listen: u32 = 32;
    pub const access: u32 = 33;
    pub const nice: u32 = 34;
    pub const accept: u32 = 35;
    pub const sync: u32 = 36;
    pub const kill: u32 = 37;
    pub const rename: u32 = 38;
    pub const mkdir: u32 = 39;
    pub const rmdir: u32 = 40;
    pub const dup: u32 = 41;
    pub const pipe: u32 = 42;
    pub const times: u32 = 43;
    pub const getsockname: u32 = 44;
    pub const brk: u32 = 45;
    pub const setgid: u32 = 46;
    pub const getgid: u32 = 47;
    pub const signal: u32 = 48;
    pub const geteuid: u32 = 49;
    pub const getegid: u32 = 50;
    pub const acct: u32 = 51;
    pub const umount2: u32 = 52;
    pub const getpeername: u32 = 53;
    pub const ioctl: u32 = 54;
    pub const fcntl: u32 = 55;
    pub const socketpair: u32 = 56;
    pub const setpgid: u32 = 57;
    pub const send: u32 = 58;
    pub const uname: u32 = 59;
    pub const umask: u32 = 60;
    pub const chroot: u32 = 61;
    pub const ustat: u32 = 62;
    pub const dup2: u32 = 63;
    pub const getppid: u32 = 64;
    pub const getpgrp: u32 = 65;
    pub const setsid: u32 = 66;
    pub const pivot_root: u32 = 67;
    pub const sgetmask: u32 = 68;
    pub const ssetmask: u32 = 69;
    pub const setreuid: u32 = 70;
    pub const setregid: u32 = 71;
    pub const mincore: u32 = 72;
    pub const sigpending: u32 = 73;
    pub const sethostname: u32 = 74;
    pub const setrlimit: u32 = 75;
    pub const getrlimit: u32 = 76;
    pub const getrusage: u32 = 77;
    pub const gettimeofday: u32 = 78;
    pub const settimeofday: u32 = 79;
    pub const getgroups: u32 = 80;
    pub const setgroups: u32 = 81;
    pub const sendto: u32 = 82;
    pub const symlink: u32 = 83;
    pub const lstat: u32 = 84;
    pub const readlink: u32 = 85;
    pub const uselib: u32 = 86;
    pub const swapon: u32 = 87;
    pub const reboot: u32 = 88;
    pub const mmap2: u32 = 89;
    pub const mmap: u32 = 90;
    pub const munmap: u32 = 91;
    pub const truncate: u32 = 92;
    pub const ftruncate: u32 = 93;
    pub const fchmod: u32 = 94;
    pub const fchown: u32 = 95;
    pub const getpriority: u32 = 96;
    pub const setpriority: u32 = 97;
    pub const recv: u32 = 98;
    pub const statfs: u32 = 99;
    pub const fstatfs: u32 = 100;
    pub const stat64: u32 = 101;
    pub const syslog: u32 = 103;
    pub const setitimer: u32 = 104;
    pub const getitimer: u32 = 105;
    pub const capget: u32 = 106;
    pub const capset: u32 = 107;
    pub const pread64: u32 = 108;
    pub const pwrite64: u32 = 109;
    pub const getcwd: u32 = 110;
    pub const vhangup: u32 = 111;
    pub const fstat64: u32 = 112;
    pub const vfork: u32 = 113;
    pub const wait4: u32 = 114;
    pub const swapoff: u32 = 115;
    pub const sysinfo: u32 = 116;
    pub const shutdown: u32 = 117;
    pub const fsync: u32 = 118;
    pub const madvise: u32 = 119;
    pub const clone: u32 = 120;
    pub const setdomainname: u32 = 121;
    pub const sendfile: u32 = 122;
    pub const recvfrom: u32 = 123;
    pub const adjtimex: u32 = 124;
    pub const mprotect: u32 = 125;
    pub const sigprocmask: u32 = 126;
    pub const init_module: u32 = 128;
    pub const delete_module: u32 = 129;
    pub const quotactl: u32 = 131;
    pub const getpgid: u32 = 132;
    pub const fchdir: u32 = 133;
    pub const bdflush: u32 = 134;
    pub const sysfs: u32 = 135;
    pub const personality: u32 = 136;
    pub const setfsuid: u32 = 138;
    pub const setfsgid: u32 = 139;
    pub const _llseek: u32 = 140;
    pub const getdents: u32 = 141;
    pub const _newselect: u32 = 142;
    pub const flock: u32 = 143;
    pub const msync: u32 = 144;
    pub const readv: u32 = 145;
    pub const writev: u32 = 146;
    pub const getsid: u32 = 147;
    pub const fdatasync: u32 = 148;
    pub const _sysctl: u32 = 149;
    pub const mlock: u32 = 150;
    pub const munlock: u32 = 151;
    pub const mlockall: u32 = 152;
    pub const munlockall: u32 = 153;
    pub const sched_setparam: u32 = 154;
    pub const sched_getparam: u32 = 155;
    pub const sched_setscheduler: u32 = 156;
    pub const sched_getscheduler: u32 = 157;
    pub const sched_yield: u32 = 158;
    pub const sched_get_priority_max: u32 = 159;
    pub const sched_get_priority_min: u32 = 160;
    pub const sched_rr_get_interval: u32 = 161;
    pub const nanosleep: u32 = 162;
    pub const mremap: u32 = 163;
    pub const setresuid: u32 = 164;
    pub const getresuid: u32 = 165;
    pub const sigaltstack: u32 = 166;
    pub const poll: u32 = 168;
    pub const setresgid: u32 = 170;
    pub const getresgid: u32 = 171;
    pub const prctl: u32 = 172;
    pub const rt_sigreturn: u32 = 173;
    pub const rt_sigaction: u32 = 174;
    pub const rt_sigprocmask: u32 = 175;
    pub const rt_sigpending: u32 = 176;
    pub const rt_sigtimedwait: u32 = 177;
    pub const rt_sigqueueinfo: u32 = 178;
    pub const rt_sigsuspend: u32 = 179;
    pub const chown: u32 = 180;
    pub const setsockopt: u32 = 181;
    pub const getsockopt: u32 = 182;
    pub const sendmsg: u32 = 183;
    pub const recvmsg: u32 = 184;
    pub const semop: u32 = 185;
    pub const semget: u32 = 186;
    pub const semctl: u32 = 187;
    pub const msgsnd: u32 = 188;
    pub const msgrcv: u32 = 189;
    pub const msgget: u32 = 190;
    pub const msgctl: u32 = 191;
    pub const shmat: u32 = 192;
    pub const shmdt: u32 = 193;
    pub const shmget: u32 = 194;
    pub const shmctl: u32 = 195;
    pub const lstat64: u32 = 198;
    pub const truncate64: u32 = 199;
    pub const ftruncate64: u32 = 200;
    pub const getdents64: u32 = 201;
    pub const fcntl64: u32 = 202;
    pub const gettid: u32 = 206;
    pub const readahead: u32 = 207;
    pub const tkill: u32 = 208;
    pub const sendfile64: u32 = 209;
    pub const futex: u32 = 210;
    pub const sched_setaffinity: u32 = 211;
    pub const sched_getaffinity: u32 = 212;
    pub const io_setup: u32 = 215;
    pub const io_destroy: u32 = 216;
    pub const io_getevents: u32 = 217;
    pub const io_submit: u32 = 218;
    pub const io_cancel: u32 = 219;
    pub const exit_group: u32 = 222;
    pub const lookup_dcookie: u32 = 223;
    pub const epoll_create: u32 = 224;
    pub const epoll_ctl: u32 = 225;
    pub const epoll_wait: u32 = 226;
    pub const remap_file_pages: u32 = 227;
    pub const semtimedop: u32 = 228;
    pub const mq_open: u32 = 229;
    pub const mq_unlink: u32 = 230;
    pub const mq_timedsend: u32 = 231;
    pub const mq_timedreceive: u32 = 232;
    pub const mq_notify: u32 = 233;
    pub const mq_getsetattr: u32 = 234;
    pub const waitid: u32 = 235;
    pub const fadvise64_64: u32 = 236;
    pub const set_tid_address: u32 = 237;
    pub const setxattr: u32 = 238;
    pub const lsetxattr: u32 = 239;
    pub const fsetxattr: u32 = 240;
    pub const getxattr: u32 = 241;
    pub const lgetxattr: u32 = 242;
    pub const fgetxattr: u32 = 243;
    pub const listxattr: u32 = 244;
    pub const llistxattr: u32 = 245;
    pub const flistxattr: u32 = 246;
    pub const removexattr: u32 = 247;
    pub const lremovexattr: u32 = 248;
    pub const fremovexattr: u32 = 249;
    pub const timer_create: u32 = 250;
    pub const timer_settime: u32 = 251;
    pub const timer_gettime: u32 = 252;
    pub const timer_getoverrun: u32 = 253;
    pub const timer_delete: u32 = 254;
    pub const clock_settime: u32 = 255;
    pub const clock_gettime: u32 = 256;
    pub const clock_getres: u32 = 257;
    pub const clock_nanosleep: u32 = 258;
    pub const tgkill: u32 = 259;
    pub const mbind: u32 = 260;
    pub const get_mempolicy: u32 = 261;
    pub const set_mempolicy: u32 = 262;
    pub const add_key: u32 = 264;
    pub const request_key: u32 = 265;
    pub const keyctl: u32 = 266;
    pub const ioprio_set: u32 = 267;
    pub const ioprio_get: u32 = 268;
    pub const inotify_init: u32 = 269;
    pub const inotify_add_watch: u32 = 270;
    pub const inotify_rm_watch: u32 = 271;
    pub const migrate_pages: u32 = 272;
    pub const pselect6: u32 = 273;
    pub const ppoll: u32 = 274;
    pub const openat: u32 = 275;
    pub const mkdirat: u32 = 276;
    pub const mknodat: u32 = 277;
    pub const fchownat: u32 = 278;
    pub const futimesat: u32 = 279;
    pub const fstatat64: u32 = 280;
    pub const unlinkat: u32 = 281;
    pub const renameat: u32 = 282;
    pub const linkat: u32 = 283;
    pub const symlinkat: u32 = 284;
    pub const readlinkat: u32 = 285;
    pub const fchmodat: u32 = 286;
    pub const faccessat: u32 = 287;
    pub const unshare: u32 = 288;
    pub const set_robust_list: u32 = 289;
    pub const get_robust_list: u32 = 290;
    pub const splice: u32 = 291;
    pub const sync_file_range: u32 = 292;
    pub const tee: u32 = 293;
    pub const vmsplice: u32 = 294;
    pub const move_pages: u32 = 295;
    pub const getcpu: u32 = 296;
    pub const epoll_pwait: u32 = 297;
    pub const statfs64: u32 = 298;
    pub const fstatfs64: u32 = 299;
    pub const kexec_load: u32 = 300;
    pub const utimensat: u32 = 301;
    pub const signalfd: u32 = 302;
    pub const eventfd: u32 = 304;
    pub const fallocate: u32 = 305;
    pub const timerfd_create: u32 = 306;
    pub const timerfd_settime: u32 = 307;
    pub const timerfd_gettime: u32 = 308;
    pub const signalfd4: u32 = 309;
    pub const eventfd2: u32 = 310;
    pub const epoll_create1: u32 = 311;
    pub const dup3: u32 = 312;
    pub const pipe2: u32 = 313;
    pub const inotify_init1: u32 = 314;
    pub const preadv: u32 = 315;
    pub const pwritev: u32 = 316;
    pub const rt_tgsigqueueinfo: u32 = 317;
    pub const perf_event_open: u32 = 318;
    pub const recvmmsg: u32 = 319;
    pub const accept4: u32 = 320;
    pub const prlimit64: u32 = 321;
    pub const fanotify_init: u32 = 322;
    pub const fanotify_mark: u32 = 323;
    pub const clock_adjtime: u32 = 324;
    pub const name_to_handle_at: u32 = 325;
    pub const open_by_handle_at: u32 = 326;
    pub const syncfs: u32 = 327;
    pub const setns: u32 = 328;
    pub const sendmmsg: u32 = 329;
    pub const process_vm_readv: u32 = 330;
    pub const process_vm_writev: u32 = 331;
    pub const kcmp: u32 = 332;
    pub const finit_module: u32 = 333;
    pub const sched_setattr: u32 = 334;
    pub const sched_getattr: u32 = 335;
    pub const utimes: u32 = 336;
    pub const renameat2: u32 = 337;
    pub const seccomp: u32 = 338;
    pub const getrandom: u32 = 339;
    pub const memfd_create: u32 = 340;
    pub const bpf: u32 = 341;
    pub const execveat: u32 = 342;
    pub const membarrier: u32 = 343;
    pub const userfaultfd: u32 = 344;
    pub const mlock2: u32 = 345;
    pub const copy_file_range: u32 = 346;
    pub const preadv2: u32 = 347;
    pub const pwritev2: u32 = 348;
    pub const statx: u32 = 349;
    pub const io_pgetevents: u32 = 350;
    pub const pkey_mprotect: u32 = 351;
    pub const pkey_alloc: u32 = 352;
    pub const pkey_free: u32 = 353;
    pub const rseq: u32 = 354;
    pub const kexec_file_load: u32 = 355;
    pub const clock_gettime64: u32 = 403;
    pub const clock_settime64: u32 = 404;
    pub const clock_adjtime64: u32 = 405;
    pub const clock_getres_time64: u32 = 406;
    pub const clock_nanosleep_time64: u32 = 407;
    pub const timer_gettime64: u32 = 408;
    pub const timer_settime64: u32 = 409;
    pub const timerfd_gettime64: u32 = 410;
    pub const timerfd_settime64: u32 = 411;
    pub const utimensat_time64: u32 = 412;
    pub const pselect6_time64: u32 = 413;
    pub const ppoll_time64: u32 = 414;
    pub const io_pgetevents_time64: u32 = 416;
    pub const recvmmsg_time64: u32 = 417;
    pub const mq_timedsend_time64: u32 = 418;
    pub const mq_timedreceive_time64: u32 = 419;
    pub const semtimedop_time64: u32 = 420;
    pub const rt_sigtimedwait_time64: u32 = 421;
    pub const futex_time64: u32 = 422;
    pub const sched_rr_get_interval_time64: u32 = 423;
    pub const pidfd_send_signal: u32 = 424;
    pub const io_uring_setup: u32 = 425;
    pub const io_uring_enter: u32 = 426;
    pub const io_uring_register: u32 = 427;
    pub const open_tree: u32 = 428;
    pub const move_mount: u32 = 429;
    pub const fsopen: u32 = 430;
    pub const fsconfig: u32 = 431;
    pub const fsmount: u32 = 432;
    pub const fspick: u32 = 433;
    pub const pidfd_open: u32 = 434;
    pub const clone3: u32 = 435;
    pub const close_range: u32 = 436;
    pub const openat2: u32 = 437;
    pub const pidfd_getfd: u32 = 438;
    pub const faccessat2: u32 = 439;
    pub const process_madvise: u32 = 440;
    pub const epoll_pwait2: u32 = 441;
    pub const mount_setattr: u32 = 442;
    pub const quotactl_fd: u32 = 443;
    pub const landlock_create_ruleset: u32 = 444;
    pub const landlock_add_rule: u32 = 445;
    pub const landlock_restrict_self: u32 = 446;
    pub const process_mrelease: u32 = 448;
    pub const futex_waitv: u32 = 449;
    pub const set_mempolicy_home_node: u32 = 450;
}
