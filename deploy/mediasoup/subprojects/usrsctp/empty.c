/* Empty: satisfies link_whole of mediasoup's meson.build; the real library comes from Debian. */
