"""The development Asterisk: a cached Debian sid chroot, configured from dialplan/."""
