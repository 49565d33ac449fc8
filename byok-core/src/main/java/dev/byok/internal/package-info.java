/** Implementation of the format and streams. Not exported; not API. */
@NullMarked
package dev.byok.internal;

import org.jspecify.annotations.NullMarked;
