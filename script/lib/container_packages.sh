# The Debian packages that build and run the container image and compose.yaml here (sourced).
# podman with runc (crun fails on this kind of host's hybrid cgroups), its network stack (netavark
# needs iptables for a network of containers), debootstrap for the debian:12 base image,
# podman-compose for compose.yaml. script/bootstrap installs them with the rest (the image's and
# the compose run's tests are in script/test); script/image installs any that are missing.
CONTAINER_PACKAGES=(podman runc debootstrap podman-compose netavark aardvark-dns iptables)
