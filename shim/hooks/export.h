/* The one macro that makes a hook visible: everything else in the library
 * is built with -fvisibility=hidden. */
#ifndef PORTSHIM_EXPORT_H
#define PORTSHIM_EXPORT_H

#define PORTSHIM_EXPORT __attribute__((visibility("default")))

#endif
