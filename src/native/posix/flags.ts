// open(2) flag bits shared by mq_open, shm_open and sem_open (x86_64 and
// arm64 Linux have the same values, <asm-generic/fcntl.h>).
export const O_RDONLY = 0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
