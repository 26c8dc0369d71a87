# CSP_ENABLE_SANITIZERS
# --enable-sanitizers=LIST builds the whole tree instrumented. LIST is a comma
# list of address, undefined, thread, leak. Each flag is checked; thread cannot
# be combined with address or leak. Flags go to SAN_CFLAGS / SAN_LDFLAGS.
AC_DEFUN([CSP_ENABLE_SANITIZERS], [
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers=LIST],
      [instrument with sanitizers: comma list of address, undefined, thread, leak])],
    [], [enable_sanitizers=no])
  SAN_CFLAGS=""
  SAN_LDFLAGS=""
  AS_IF([test "x$enable_sanitizers" != xno && test "x$enable_sanitizers" != x], [
    san_list=`echo "$enable_sanitizers" | tr ',' ' '`
    san_thread=no
    san_addr=no
    for san in $san_list; do
      AS_CASE([$san],
        [address|leak], [san_addr=yes],
        [thread], [san_thread=yes],
        [undefined], [],
        [AC_MSG_ERROR([unknown sanitizer '$san' (use address, undefined, thread, leak)])])
      save_CFLAGS=$CFLAGS
      save_LDFLAGS=$LDFLAGS
      CFLAGS="$CFLAGS -fsanitize=$san"
      LDFLAGS="$LDFLAGS -fsanitize=$san"
      AC_MSG_CHECKING([whether $CC supports -fsanitize=$san])
      AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes])],
        [AC_MSG_RESULT([no]); AC_MSG_ERROR([$CC cannot build with -fsanitize=$san])])
      CFLAGS=$save_CFLAGS
      LDFLAGS=$save_LDFLAGS
      SAN_CFLAGS="$SAN_CFLAGS -fsanitize=$san"
      SAN_LDFLAGS="$SAN_LDFLAGS -fsanitize=$san"
    done
    AS_IF([test $san_thread = yes && test $san_addr = yes],
      [AC_MSG_ERROR([the thread sanitizer cannot be combined with address or leak])])
    SAN_CFLAGS="$SAN_CFLAGS -fno-omit-frame-pointer -g"
    AS_CASE([$enable_sanitizers], [*undefined*], [SAN_CFLAGS="$SAN_CFLAGS -fno-sanitize-recover=undefined"])
  ])
  AC_SUBST([SAN_CFLAGS])
  AC_SUBST([SAN_LDFLAGS])
  AM_CONDITIONAL([SANITIZED], [test "x$SAN_CFLAGS" != x])
])
