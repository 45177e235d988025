//! Error numbers. Guest values are Linux/parisc's (`asm/errno.h`), which
//! differ from the generic numbering above 34; the live environment runs on
//! a host with the generic numbering (x86-64, arm64) and translates.

/// A guest (parisc) errno value; system calls return its negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Errno(pub u32);

impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ENOENT: Errno = Errno(2);
    pub const ESRCH: Errno = Errno(3);
    pub const EINTR: Errno = Errno(4);
    pub const EIO: Errno = Errno(5);
    pub const EBADF: Errno = Errno(9);
    pub const ECHILD: Errno = Errno(10);
    pub const EAGAIN: Errno = Errno(11);
    pub const ENOMEM: Errno = Errno(12);
    pub const EACCES: Errno = Errno(13);
    pub const EFAULT: Errno = Errno(14);
    pub const EEXIST: Errno = Errno(17);
    pub const ENOTDIR: Errno = Errno(20);
    pub const EINVAL: Errno = Errno(22);
    pub const EMFILE: Errno = Errno(24);
    pub const ENOTTY: Errno = Errno(25);
    pub const ESPIPE: Errno = Errno(29);
    pub const ERANGE: Errno = Errno(34);
    pub const EOVERFLOW: Errno = Errno(72);
    pub const ETIMEDOUT: Errno = Errno(238);
    pub const ENAMETOOLONG: Errno = Errno(248);
    pub const ENOSYS: Errno = Errno(251);

    /// The value a system call returns in r28: `-errno`.
    pub fn as_return(self) -> u32 {
        self.0.wrapping_neg()
    }

    /// Translates a host errno (generic Linux numbering) to the guest's.
    pub fn from_host(host: i32) -> Errno {
        let host = host as u32;
        match HOST_TO_GUEST.binary_search_by_key(&host, |&(h, _)| h) {
            Ok(i) => Errno(HOST_TO_GUEST[i].1),
            // 1..=34 are the same everywhere (asm-generic/errno-base.h).
            Err(_) if (1..=34).contains(&host) => Errno(host),
            Err(_) => Errno::EIO,
        }
    }

    /// The errno of the last failed host call.
    pub fn last_host() -> Errno {
        Errno::from_host(std::io::Error::last_os_error().raw_os_error().unwrap_or(5))
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        Errno::from_host(e.raw_os_error().unwrap_or(5))
    }
}

/// `(host errno, guest errno)` for every number that differs, sorted by host value.
const HOST_TO_GUEST: &[(u32, u32)] = &[
    (35, 45), // EDEADLK
    (36, 248), // ENAMETOOLONG
    (37, 46), // ENOLCK
    (38, 251), // ENOSYS
    (39, 247), // ENOTEMPTY
    (40, 249), // ELOOP
    (42, 35), // ENOMSG
    (43, 36), // EIDRM
    (44, 37), // ECHRNG
    (45, 38), // EL2NSYNC
    (46, 39), // EL3HLT
    (47, 40), // EL3RST
    (48, 41), // ELNRNG
    (49, 42), // EUNATCH
    (50, 43), // ENOCSI
    (51, 44), // EL2HLT
    (52, 160), // EBADE
    (53, 161), // EBADR
    (54, 162), // EXFULL
    (55, 163), // ENOANO
    (56, 164), // EBADRQC
    (57, 165), // EBADSLT
    (59, 166), // EBFONT
    (60, 54), // ENOSTR
    (61, 51), // ENODATA
    (62, 52), // ETIME
    (63, 53), // ENOSR
    (64, 50), // ENONET
    (65, 55), // ENOPKG
    (66, 71), // EREMOTE
    (67, 57), // ENOLINK
    (68, 58), // EADV
    (69, 59), // ESRMNT
    (70, 60), // ECOMM
    (71, 61), // EPROTO
    (72, 64), // EMULTIHOP
    (73, 66), // EDOTDOT
    (74, 67), // EBADMSG
    (75, 72), // EOVERFLOW
    (76, 167), // ENOTUNIQ
    (77, 168), // EBADFD
    (78, 169), // EREMCHG
    (79, 170), // ELIBACC
    (80, 171), // ELIBBAD
    (81, 172), // ELIBSCN
    (82, 173), // ELIBMAX
    (83, 174), // ELIBEXEC
    (84, 47), // EILSEQ
    (85, 175), // ERESTART
    (86, 176), // ESTRPIPE
    (87, 68), // EUSERS
    (88, 216), // ENOTSOCK
    (89, 217), // EDESTADDRREQ
    (90, 218), // EMSGSIZE
    (91, 219), // EPROTOTYPE
    (92, 220), // ENOPROTOOPT
    (93, 221), // EPROTONOSUPPORT
    (94, 222), // ESOCKTNOSUPPORT
    (95, 223), // EOPNOTSUPP
    (96, 224), // EPFNOSUPPORT
    (97, 225), // EAFNOSUPPORT
    (98, 226), // EADDRINUSE
    (99, 227), // EADDRNOTAVAIL
    (100, 228), // ENETDOWN
    (101, 229), // ENETUNREACH
    (102, 230), // ENETRESET
    (103, 231), // ECONNABORTED
    (104, 232), // ECONNRESET
    (105, 233), // ENOBUFS
    (106, 234), // EISCONN
    (107, 235), // ENOTCONN
    (108, 236), // ESHUTDOWN
    (109, 237), // ETOOMANYREFS
    (110, 238), // ETIMEDOUT
    (111, 239), // ECONNREFUSED
    (112, 241), // EHOSTDOWN
    (113, 242), // EHOSTUNREACH
    (114, 244), // EALREADY
    (115, 245), // EINPROGRESS
    (116, 70), // ESTALE
    (117, 177), // EUCLEAN
    (118, 178), // ENOTNAM
    (119, 179), // ENAVAIL
    (120, 180), // EISNAM
    (121, 181), // EREMOTEIO
    (122, 69), // EDQUOT
    (123, 182), // ENOMEDIUM
    (124, 183), // EMEDIUMTYPE
    (125, 253), // ECANCELED
    (126, 184), // ENOKEY
    (127, 185), // EKEYEXPIRED
    (128, 186), // EKEYREVOKED
    (129, 187), // EKEYREJECTED
    (130, 254), // EOWNERDEAD
    (131, 255), // ENOTRECOVERABLE
    (132, 256), // ERFKILL
    (133, 257), // EHWPOISON
];
