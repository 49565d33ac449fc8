package dev.byok.cli;

import java.io.InputStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.jspecify.annotations.NullMarked;

/** When to draw a progress bar on standard error, for {@code --progress}. */
@NullMarked
enum Progress {
  /** When standard error is a terminal and the input is at least {@link #AUTO_THRESHOLD} bytes. */
  AUTO,
  /** Always (also for standard input, whose size is unknown). */
  ALWAYS,
  /** Never. */
  NEVER;

  /** Inputs smaller than this finish too quickly for a bar to help. */
  static final long AUTO_THRESHOLD = 16L << 20;

  /**
   * @param in the input to watch
   * @param size its size in bytes, or -1 if unknown
   * @param task the bar's label
   * @param io where the bar goes (standard error)
   * @return {@code in}, or {@code in} wrapped so reading it advances a bar; the bar closes with it
   */
  InputStream wrap(InputStream in, long size, String task, CliIo io) {
    boolean show =
        switch (this) {
          case ALWAYS -> true;
          case NEVER -> false;
          case AUTO -> io.interactive() && size >= AUTO_THRESHOLD;
        };
    if (!show) {
      return in;
    }
    ProgressBarBuilder b =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(size)
            .setUnit(" MiB", 1 << 20)
            .setStyle(ProgressBarStyle.ASCII)
            .setConsumer(new ConsoleProgressBarConsumer(io.err()))
            .showSpeed();
    return ProgressBar.wrap(in, b);
  }
}
