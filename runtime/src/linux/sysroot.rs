//! Guest paths inside a sysroot, the way qemu's `-L` looks them up
//! (qemu util/path.c): an absolute path the guest opens, stats, probes or
//! reads as a link names the file under the sysroot when that file exists
//! there, and the host file otherwise. This is how a dynamically linked
//! guest's `ld.so` finds `/lib/libc.so.6` in `/usr/hppa-linux-gnu/lib`.
//!
//! The existence check is an environment call like the access it precedes,
//! so a recorded run replays it.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::env::Dir;
use super::process::LinuxProcess;

impl LinuxProcess {
    /// Look absolute guest paths up under `sysroot` first (None: never).
    pub fn set_sysroot(&mut self, sysroot: Option<&Path>) {
        self.sysroot = sysroot.map(|p| p.as_os_str().as_bytes().to_vec());
    }

    /// The host path for the guest's `path`: under the sysroot when it is
    /// absolute and exists there, else unchanged.
    pub(super) fn in_sysroot(&mut self, path: Vec<u8>) -> Vec<u8> {
        let Some(root) = &self.sysroot else { return path };
        if !path.starts_with(b"/") {
            return path;
        }
        let inside = [root.as_slice(), path.as_slice()].concat();
        match self.env.faccessat(Dir::Cwd, &inside, libc::F_OK) {
            Ok(()) => inside,
            Err(_) => path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::HostEnvironment;
    use super::*;

    #[test]
    fn absolute_paths_existing_in_the_sysroot_are_redirected() {
        let root = std::env::temp_dir().join(format!("hbft-sysroot-test-{}", std::process::id()));
        std::fs::create_dir_all(root.join("lib")).unwrap();
        std::fs::write(root.join("lib/libc.so.6"), b"").unwrap();
        let mut process = LinuxProcess::new(Box::new(HostEnvironment));
        assert_eq!(process.in_sysroot(b"/lib/libc.so.6".to_vec()), b"/lib/libc.so.6");

        process.set_sysroot(Some(&root));
        let inside = root.join("lib/libc.so.6");
        assert_eq!(process.in_sysroot(b"/lib/libc.so.6".to_vec()), inside.as_os_str().as_bytes());
        // Missing under the sysroot, or relative: the path is the host's.
        assert_eq!(process.in_sysroot(b"/lib/libm.so.6".to_vec()), b"/lib/libm.so.6");
        assert_eq!(process.in_sysroot(b"lib/libc.so.6".to_vec()), b"lib/libc.so.6");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
