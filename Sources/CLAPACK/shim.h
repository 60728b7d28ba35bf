// LAPACK's Fortran entry points, which Debian's libopenblas carries (there is no lapack.h
// without liblapack-dev, so the two routines rt calls are declared here). LP64: 32-bit
// integers. The trailing size_t arguments are gfortran's hidden lengths of the character
// arguments; passing them is correct for a Fortran build and harmless for a C build.
#include <stddef.h>

void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_length, size_t uplo_length);

void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *iwork, int *info, size_t jobz_length);
