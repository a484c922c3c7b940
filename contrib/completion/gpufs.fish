# fish completion for gpufs(1).  Installed where fish looks for vendor
# completions (…/fish/vendor_completions.d/gpufs.fish).

# The configuration file: the one an -o config= on the line names, or the
# default.
function __gpufs_config
    set -l config $HOME/.config/gpufs/config
    set -q XDG_CONFIG_HOME; and set config $XDG_CONFIG_HOME/gpufs/config
    for word in (commandline -opc)
        if string match -q -- '*config=*' $word
            set config (string replace -r '.*config=' '' -- $word | string replace -r ',.*' '')
        end
    end
    echo $config
end

# Account names: the section names of the configuration file.
function __gpufs_accounts
    set -l config (__gpufs_config)
    test -r "$config"; or return
    string replace -rf '^\s*\[([^]]*)\].*' '$1' <$config | string match -v -- gpufs
end

# How many of SOURCE and MOUNTPOINT the line holds already.
function __gpufs_words
    set -l n 0
    set -l skip 0
    for word in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $word
            case -o
                set skip 1
            case '-*'
            case '*'
                set n (math $n + 1)
        end
    end
    echo $n
end

# The last of a comma-separated -o list, after what comes before it.
function __gpufs_options
    set -l token (commandline -ct)
    set -l head (string replace -r '[^,]*$' '' -- $token)
    set -l last (string replace -r '.*,' '' -- $token)
    set -l values
    switch $last
        case 'loglevel=*'
            set values loglevel={err,warning,info,debug}
        case 'config=*'
            set values config=(__fish_complete_path (string replace 'config=' '' -- $last))
        case '*'
            set values config= ro rw ttl= poll= timeout= connect_timeout= loglevel= spin= max_threads= \
                allow_other allow_root auto_unmount default_permissions fsname= subtype= \
                max_read= clone_fd max_idle_threads=
    end
    for value in $values
        echo "$head$value"
    end
end

complete -c gpufs -f
complete -c gpufs -s o -x -a '(__gpufs_options)' -d 'Mount options'
complete -c gpufs -s f -d 'Stay in the foreground, log to standard error'
complete -c gpufs -s d -d 'Debug: foreground, log every request'
complete -c gpufs -s s -d 'Handle one FUSE request at a time'
complete -c gpufs -s h -l help -d 'Print the options and exit'
complete -c gpufs -s V -l version -d 'Print the version and exit'
complete -c gpufs -n 'test (__gpufs_words) = 0' -a 'none' -d 'Every account'
complete -c gpufs -n 'test (__gpufs_words) = 0' -a '(__gpufs_accounts)' -d 'Account'
complete -c gpufs -n 'test (__gpufs_words) -lt 2' -a '(__fish_complete_directories)'
