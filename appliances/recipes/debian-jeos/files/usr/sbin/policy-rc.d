#!/bin/sh
# debian-jeos: maintainer scripts never start or restart services, in a build chroot or in a guest.
# Services start from /etc/storm/services.d at boot (docs/recipes.md).
exit 101
